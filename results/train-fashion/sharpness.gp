# sharpness.gp: written by implreg.  Run it in its directory:
#   gnuplot sharpness.gp
# to render sharpness.png (pngcairo, or png when gnuplot has no cairo)
# and sharpness.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "sharpness.png"
if (!exists("ir_pdf")) ir_pdf = "sharpness.pdf"
set encoding utf8
set title "Sharpness during training: 784-32-10 tanh, GD, η = 0.2"
set xlabel "step"
set ylabel "λ\\_max of the Hessian"
set grid
set key outside right top vertical box opaque
set format x "%g"
set format y "%g"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "sharpness.dat" index 0 using 1:2 with linespoints title "λ\\_max (Lanczos)", \
     "sharpness.dat" index 1 using 1:2 with lines dashtype 2 title "2/η"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "sharpness.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
