# slices-fashion-mnist.gp: written by implreg.  Run it in its directory:
#   gnuplot slices-fashion-mnist.gp
# to render slices-fashion-mnist.png (pngcairo, or png when gnuplot has no cairo)
# and slices-fashion-mnist.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "slices-fashion-mnist.png"
if (!exists("ir_pdf")) ir_pdf = "slices-fashion-mnist.pdf"
set encoding utf8
set title "Loss slices through end points: Fashion-MNIST 784-32-10, η = 0.1"
set xlabel "t (filter-normalized units)"
set ylabel "training loss (log scale)"
set grid
set key outside right top vertical box opaque
set format x "%g"
set logscale y 10
set format y "10^{%T}"
set yrange [0.0062087235403382726:678.08828404283281]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "slices-fashion-mnist.dat" index 0 using 1:2 with lines title "B = 32, random", \
     "slices-fashion-mnist.dat" index 1 using 1:2 with lines dashtype 2 title "B = 32, top ev", \
     "slices-fashion-mnist.dat" index 2 using 1:2 with lines title "B = 128, random", \
     "slices-fashion-mnist.dat" index 3 using 1:2 with lines dashtype 2 title "B = 128, top ev", \
     "slices-fashion-mnist.dat" index 4 using 1:2 with lines title "GD, random", \
     "slices-fashion-mnist.dat" index 5 using 1:2 with lines dashtype 2 title "GD, top ev"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "slices-fashion-mnist.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
