# classical.gp: written by implreg.  Run it in its directory:
#   gnuplot classical.gp
# to render classical.png (pngcairo, or png when gnuplot has no cairo)
# and classical.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "classical.png"
if (!exists("ir_pdf")) ir_pdf = "classical.pdf"
set encoding utf8
set title "Classical U-curve and second descent: y = sign(x) + 0.1 noise, n = 30, weighted (pair k / k) Fourier features"
set xlabel "N (log scale)"
set ylabel "test MSE (log scale)"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "10^{%T}"
set xrange [1:1091]
set logscale y 10
set format y "10^{%T}"
set yrange [0.018997646833053293:141411478593.12604]
set arrow from first 30, graph 0 to first 30, graph 1 nohead dashtype 2 linecolor rgb "#505050" front
set label "N = n" at first 30, graph 0.96 offset character 0.5, 0 left textcolor rgb "#505050" front

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "classical.dat" index 0 using 1:2 with linespoints title "min-norm fit (median over seeds)", \
     "classical.dat" index 1 using 1:2 with lines dt 3 lc rgb 0x666666 title "quartiles over seeds", \
     "classical.dat" index 2 using 1:2 with lines dt 3 lc rgb 0x666666 notitle, \
     "classical.dat" index 3 using 1:2 with lines dashtype 2 title "U-curve minimum"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "classical.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
