# model_linear.gp: written by implreg.  Run it in its directory:
#   gnuplot model_linear.gp
# to render model_linear.png (pngcairo, or png when gnuplot has no cairo)
# and model_linear.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "model_linear.png"
if (!exists("ir_pdf")) ir_pdf = "model_linear.pdf"
set encoding utf8
set title "Isotropic linear model, min-norm least squares: risk against γ = p/n (n = 100, r² = 1, σ² = 0.25)"
set xlabel "gamma = p/n (log scale)"
set ylabel "excess risk (log scale)"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "%g"
set xrange [0.10000000000000001:4]
set logscale y 10
set format y "10^{%T}"
set yrange [0.022658650797904755:3.4558850547670934]
set arrow from first 1, graph 0 to first 1, graph 1 nohead dashtype 2 linecolor rgb "#505050" front
set label "p = n" at first 1, graph 0.96 offset character 0.5, 0 left textcolor rgb "#505050" front

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "model_linear.dat" index 0 using 1:2:($2-$3 > 0 ? $2-$3 : $2/10):($2+$3) with yerrorbars pointtype -1 linecolor 1 notitle, \
     "model_linear.dat" index 0 using 1:2 with points linecolor 1 title "measured (mean ± standard error over seeds)", \
     "model_linear.dat" index 1 using 1:2 with lines title "exact finite-n theory", \
     "model_linear.dat" index 2 using 1:2 with lines dashtype 2 title "asymptotic theory"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "model_linear.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
