# epochwise.gp: written by implreg.  Run it in its directory:
#   gnuplot epochwise.gp
# to render epochwise.png (pngcairo, or png when gnuplot has no cairo)
# and epochwise.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "epochwise.png"
if (!exists("ir_pdf")) ir_pdf = "epochwise.pdf"
set encoding utf8
set title "Epoch-wise test error: 196-24-10 relu, half-mse loss, n = 500"
set xlabel "step (log scale)"
set ylabel "test error"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "10^{%T}"
set xrange [1:8000]
set format y "%g"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "epochwise.dat" index 0 using 1:2:($2-$3):($2+$3) with yerrorbars pointtype -1 linecolor 1 notitle, \
     "epochwise.dat" index 0 using 1:2 with linespoints linecolor 1 title "noise 0", \
     "epochwise.dat" index 1 using 1:2:($2-$3):($2+$3) with yerrorbars pointtype -1 linecolor 2 notitle, \
     "epochwise.dat" index 1 using 1:2 with linespoints linecolor 2 title "noise 0.1", \
     "epochwise.dat" index 2 using 1:2:($2-$3):($2+$3) with yerrorbars pointtype -1 linecolor 3 notitle, \
     "epochwise.dat" index 2 using 1:2 with linespoints linecolor 3 title "noise 0.2"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "epochwise.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
