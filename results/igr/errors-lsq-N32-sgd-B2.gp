# errors-lsq-N32-sgd-B2.gp: written by implreg.  Run it in its directory:
#   gnuplot errors-lsq-N32-sgd-B2.gp
# to render errors-lsq-N32-sgd-B2.png (pngcairo, or png when gnuplot has no cairo)
# and errors-lsq-N32-sgd-B2.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "errors-lsq-N32-sgd-B2.png"
if (!exists("ir_pdf")) ir_pdf = "errors-lsq-N32-sgd-B2.pdf"
set encoding utf8
set title "lsq-N32, SGD, B = 2: distance to the flows"
set xlabel "step size h"
set ylabel "distance"
set grid
set key outside box opaque
set logscale x 10
set format x "%g"
set xrange [0.0013836449779658577:0.011069159823726861]
set logscale y 10
set format y "10^{%T}"
set yrange [3.4751156158436964e-07:0.0053144729504686974]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "errors-lsq-N32-sgd-B2.dat" index 0 using 1:2 with points title "epoch, flow", \
     "errors-lsq-N32-sgd-B2.dat" index 1 using 1:2 with lines title "slope 1.92", \
     "errors-lsq-N32-sgd-B2.dat" index 2 using 1:2 with points title "epoch, modified", \
     "errors-lsq-N32-sgd-B2.dat" index 3 using 1:2 with lines title "slope 2.83", \
     "errors-lsq-N32-sgd-B2.dat" index 4 using 1:2 with points title "epoch, alternative", \
     "errors-lsq-N32-sgd-B2.dat" index 5 using 1:2 with lines title "slope 1.93"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "errors-lsq-N32-sgd-B2.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
