# errors-quad1d-gd.gp: written by implreg.  Run it in its directory:
#   gnuplot errors-quad1d-gd.gp
# to render errors-quad1d-gd.png (pngcairo, or png when gnuplot has no cairo)
# and errors-quad1d-gd.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "errors-quad1d-gd.png"
if (!exists("ir_pdf")) ir_pdf = "errors-quad1d-gd.pdf"
set encoding utf8
set title "quad1d, GD: distance to the flows"
set xlabel "step size h"
set ylabel "distance"
set grid
set key outside box opaque
set logscale x 10
set format x "%g"
set xrange [0.012500000000000001:0.20000000000000001]
set logscale y 10
set format y "10^{%T}"
set yrange [4.1740736507025101e-07:0.062502766863440862]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "errors-quad1d-gd.dat" index 0 using 1:2 with points title "step, flow", \
     "errors-quad1d-gd.dat" index 1 using 1:2 with lines title "slope 1.98", \
     "errors-quad1d-gd.dat" index 2 using 1:2 with points title "step, modified", \
     "errors-quad1d-gd.dat" index 3 using 1:2 with lines title "slope 2.98", \
     "errors-quad1d-gd.dat" index 4 using 1:2 with points title "T, flow", \
     "errors-quad1d-gd.dat" index 5 using 1:2 with lines title "slope 1.03", \
     "errors-quad1d-gd.dat" index 6 using 1:2 with points title "T, modified", \
     "errors-quad1d-gd.dat" index 7 using 1:2 with lines title "slope 2.02"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "errors-quad1d-gd.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
