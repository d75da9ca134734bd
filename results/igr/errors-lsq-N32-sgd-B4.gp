# errors-lsq-N32-sgd-B4.gp: written by implreg.  Run it in its directory:
#   gnuplot errors-lsq-N32-sgd-B4.gp
# to render errors-lsq-N32-sgd-B4.png (pngcairo, or png when gnuplot has no cairo)
# and errors-lsq-N32-sgd-B4.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "errors-lsq-N32-sgd-B4.png"
if (!exists("ir_pdf")) ir_pdf = "errors-lsq-N32-sgd-B4.pdf"
set encoding utf8
set title "lsq-N32, SGD, B = 4: distance to the flows"
set xlabel "step size h"
set ylabel "distance"
set grid
set key outside box opaque
set logscale x 10
set format x "%g"
set xrange [0.0027672899559317153:0.022138319647453723]
set logscale y 10
set format y "10^{%T}"
set yrange [5.3646994468350455e-07:0.0067355147135330813]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "errors-lsq-N32-sgd-B4.dat" index 0 using 1:2 with points title "epoch, flow", \
     "errors-lsq-N32-sgd-B4.dat" index 1 using 1:2 with lines title "slope 1.92", \
     "errors-lsq-N32-sgd-B4.dat" index 2 using 1:2 with points title "epoch, modified", \
     "errors-lsq-N32-sgd-B4.dat" index 3 using 1:2 with lines title "slope 2.83", \
     "errors-lsq-N32-sgd-B4.dat" index 4 using 1:2 with points title "epoch, alternative", \
     "errors-lsq-N32-sgd-B4.dat" index 5 using 1:2 with lines title "slope 1.94"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "errors-lsq-N32-sgd-B4.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
