# errors-fashion-mnist-gd.gp: written by implreg.  Run it in its directory:
#   gnuplot errors-fashion-mnist-gd.gp
# to render errors-fashion-mnist-gd.png (pngcairo, or png when gnuplot has no cairo)
# and errors-fashion-mnist-gd.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "errors-fashion-mnist-gd.png"
if (!exists("ir_pdf")) ir_pdf = "errors-fashion-mnist-gd.pdf"
set encoding utf8
set title "fashion-mnist, GD: distance to the flows"
set xlabel "step size h"
set ylabel "distance"
set grid
set key outside box opaque
set logscale x 10
set format x "%g"
set xrange [0.00056272457619997187:0.0090035932191995498]
set logscale y 10
set format y "10^{%T}"
set yrange [4.8670795843341302e-09:0.0014464415602151715]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "errors-fashion-mnist-gd.dat" index 0 using 1:2 with points title "step, flow", \
     "errors-fashion-mnist-gd.dat" index 1 using 1:2 with lines title "slope 1.99", \
     "errors-fashion-mnist-gd.dat" index 2 using 1:2 with points title "step, modified", \
     "errors-fashion-mnist-gd.dat" index 3 using 1:2 with lines title "slope 2.99", \
     "errors-fashion-mnist-gd.dat" index 4 using 1:2 with points title "T, flow", \
     "errors-fashion-mnist-gd.dat" index 5 using 1:2 with lines title "slope 1.02", \
     "errors-fashion-mnist-gd.dat" index 6 using 1:2 with points title "T, modified", \
     "errors-fashion-mnist-gd.dat" index 7 using 1:2 with lines title "slope 2.02"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "errors-fashion-mnist-gd.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
