# emc.gp: written by implreg.  Run it in its directory:
#   gnuplot emc.gp
# to render emc.png (pngcairo, or png when gnuplot has no cairo)
# and emc.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "emc.png"
if (!exists("ir_pdf")) ir_pdf = "emc.pdf"
set encoding utf8
set title "Effective model complexity: 196-H-10 relu, half-mse loss, noise 0.2"
set xlabel "parameters P"
set ylabel "EMC (training samples fitted)"
set grid
set key outside right top vertical box opaque
set format x "%g"
set format y "%g"
set arrow from first 5000, graph 0 to first 5000, graph 1 nohead dashtype 2 linecolor rgb "#505050" front
set label "n K" at first 5000, graph 0.96 offset character 0.5, 0 left textcolor rgb "#505050" front

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "emc.dat" index 0 using 1:2 with linespoints title "500 steps", \
     "emc.dat" index 1 using 1:2 with linespoints title "2000 steps", \
     "emc.dat" index 2 using 1:2 with lines dashtype 2 title "n (the sweep's samples)"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "emc.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
