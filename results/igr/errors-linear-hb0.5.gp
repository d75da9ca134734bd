# errors-linear-hb0.5.gp: written by implreg.  Run it in its directory:
#   gnuplot errors-linear-hb0.5.gp
# to render errors-linear-hb0.5.png (pngcairo, or png when gnuplot has no cairo)
# and errors-linear-hb0.5.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "errors-linear-hb0.5.png"
if (!exists("ir_pdf")) ir_pdf = "errors-linear-hb0.5.pdf"
set encoding utf8
set title "linear, heavy ball, β = 0.5: distance to the flows"
set xlabel "step size h"
set ylabel "distance"
set grid
set key outside box opaque
set logscale x 10
set format x "%g"
set xrange [0.00020117686951851487:0.003218829912296238]
set logscale y 10
set format y "10^{%T}"
set yrange [1.9670965887836486e-09:0.0050642698706332527]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "errors-linear-hb0.5.dat" index 0 using 1:2 with points title "step, flow", \
     "errors-linear-hb0.5.dat" index 1 using 1:2 with lines title "slope 2.02", \
     "errors-linear-hb0.5.dat" index 2 using 1:2 with points title "step, modified", \
     "errors-linear-hb0.5.dat" index 3 using 1:2 with lines title "slope 3.03", \
     "errors-linear-hb0.5.dat" index 4 using 1:2 with points title "step, alternative", \
     "errors-linear-hb0.5.dat" index 5 using 1:2 with lines title "slope 2.03", \
     "errors-linear-hb0.5.dat" index 6 using 1:2 with points title "T, flow", \
     "errors-linear-hb0.5.dat" index 7 using 1:2 with lines title "slope 1.01", \
     "errors-linear-hb0.5.dat" index 8 using 1:2 with points title "T, modified", \
     "errors-linear-hb0.5.dat" index 9 using 1:2 with lines title "slope 2.02", \
     "errors-linear-hb0.5.dat" index 10 using 1:2 with points title "T, alternative", \
     "errors-linear-hb0.5.dat" index 11 using 1:2 with lines title "slope 1.02"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "errors-linear-hb0.5.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
