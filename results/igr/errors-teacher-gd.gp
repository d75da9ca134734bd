# errors-teacher-gd.gp: written by implreg.  Run it in its directory:
#   gnuplot errors-teacher-gd.gp
# to render errors-teacher-gd.png (pngcairo, or png when gnuplot has no cairo)
# and errors-teacher-gd.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "errors-teacher-gd.png"
if (!exists("ir_pdf")) ir_pdf = "errors-teacher-gd.pdf"
set encoding utf8
set title "teacher, GD: distance to the flows"
set xlabel "step size h"
set ylabel "distance"
set grid
set key outside box opaque
set logscale x 10
set format x "%g"
set xrange [0.0038175366640493917:0.061080586624790267]
set logscale y 10
set format y "10^{%T}"
set yrange [5.8729824470983208e-08:0.011550901261559974]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "errors-teacher-gd.dat" index 0 using 1:2 with points title "step, flow", \
     "errors-teacher-gd.dat" index 1 using 1:2 with lines title "slope 1.98", \
     "errors-teacher-gd.dat" index 2 using 1:2 with points title "step, modified", \
     "errors-teacher-gd.dat" index 3 using 1:2 with lines title "slope 2.98", \
     "errors-teacher-gd.dat" index 4 using 1:2 with points title "T, flow", \
     "errors-teacher-gd.dat" index 5 using 1:2 with lines title "slope 1.02", \
     "errors-teacher-gd.dat" index 6 using 1:2 with points title "T, modified", \
     "errors-teacher-gd.dat" index 7 using 1:2 with lines title "slope 2.02"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "errors-teacher-gd.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
