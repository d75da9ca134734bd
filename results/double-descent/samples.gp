# samples.gp: written by implreg.  Run it in its directory:
#   gnuplot samples.gp
# to render samples.png (pngcairo, or png when gnuplot has no cairo)
# and samples.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "samples.png"
if (!exists("ir_pdf")) ir_pdf = "samples.pdf"
set encoding utf8
set title "Sample-wise: isotropic linear model, p = 100, r² = 1, σ² = 0.1, risk against n/p"
set xlabel "n/p (log scale)"
set ylabel "excess risk (log scale)"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "%g"
set xrange [0.20000000000000001:3]
set logscale y 10
set format y "%g"
set yrange [0.04171437937686253:3.170180474214416]
set arrow from first 1, graph 0 to first 1, graph 1 nohead dashtype 2 linecolor rgb "#505050" front
set label "n = p" at first 1, graph 0.96 offset character 0.5, 0 left textcolor rgb "#505050" front

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "samples.dat" index 0 using 1:2:($2-$3 > 0 ? $2-$3 : $2/10):($2+$3) with yerrorbars pointtype -1 linecolor 1 notitle, \
     "samples.dat" index 0 using 1:2 with points linecolor 1 title "measured (mean ± standard error over seeds)", \
     "samples.dat" index 1 using 1:2 with lines title "exact finite-n theory", \
     "samples.dat" index 2 using 1:2 with lines dashtype 2 title "asymptotic theory"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "samples.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
