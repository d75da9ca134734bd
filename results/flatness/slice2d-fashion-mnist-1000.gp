# slice2d-fashion-mnist-1000.gp: written by implreg.  Run it in its directory:
#   gnuplot slice2d-fashion-mnist-1000.gp
# to render slice2d-fashion-mnist-1000.png (pngcairo, or png when gnuplot has no cairo)
# and slice2d-fashion-mnist-1000.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "slice2d-fashion-mnist-1000.png"
if (!exists("ir_pdf")) ir_pdf = "slice2d-fashion-mnist-1000.pdf"
set encoding utf8
set title "Loss around an end point: Fashion-MNIST 784-32-10, GD, η = 0.1"
set xlabel "s (along d1)"
set ylabel "t (along d2)"
set grid
set key outside right top vertical box opaque
set xrange [-1:1]
set yrange [-1:1]
set format x "%g"
set format y "%g"
set view map
set pm3d at b interpolate 4,4
set palette defined (0 "#440154", 0.25 "#3b528b", 0.5 "#21918c", 0.75 "#5ec962", 1 "#fde725")
set contour base
set cntrparam levels 12
unset surface
set key off
set cblabel "log10 training loss"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
splot "slice2d-fashion-mnist-1000.dat" using 1:2:(log10($3)) with pm3d notitle, \
      "slice2d-fashion-mnist-1000.dat" using 1:2:(log10($3)) with lines linecolor rgb "black" nosurface notitle
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "slice2d-fashion-mnist-1000.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
