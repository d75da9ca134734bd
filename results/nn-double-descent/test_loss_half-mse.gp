# test_loss_half-mse.gp: written by implreg.  Run it in its directory:
#   gnuplot test_loss_half-mse.gp
# to render test_loss_half-mse.png (pngcairo, or png when gnuplot has no cairo)
# and test_loss_half-mse.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "test_loss_half-mse.png"
if (!exists("ir_pdf")) ir_pdf = "test_loss_half-mse.pdf"
set encoding utf8
set title "test loss against parameters: 196-H-10 relu, half-mse loss, n = 500"
set xlabel "parameters P (log scale)"
set ylabel "test loss"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "10^{%T}"
set xrange [424:49897]
set format y "%g"
set arrow from first 5000, graph 0 to first 5000, graph 1 nohead dashtype 2 linecolor rgb "#505050" front
set label "n K" at first 5000, graph 0.96 offset character 0.5, 0 left textcolor rgb "#505050" front

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "test_loss_half-mse.dat" index 0 using 1:2:($2-$3):($2+$3) with yerrorbars pointtype -1 linecolor 1 notitle, \
     "test_loss_half-mse.dat" index 0 using 1:2 with linespoints linecolor 1 title "noise 0", \
     "test_loss_half-mse.dat" index 1 using 1:2:($2-$3):($2+$3) with yerrorbars pointtype -1 linecolor 2 notitle, \
     "test_loss_half-mse.dat" index 1 using 1:2 with linespoints linecolor 2 title "noise 0.1", \
     "test_loss_half-mse.dat" index 2 using 1:2:($2-$3):($2+$3) with yerrorbars pointtype -1 linecolor 3 notitle, \
     "test_loss_half-mse.dat" index 2 using 1:2 with linespoints linecolor 3 title "noise 0.2"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "test_loss_half-mse.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
