# classical_fits.gp: written by implreg.  Run it in its directory:
#   gnuplot classical_fits.gp
# to render classical_fits.png (pngcairo, or png when gnuplot has no cairo)
# and classical_fits.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "classical_fits.png"
if (!exists("ir_pdf")) ir_pdf = "classical_fits.pdf"
set encoding utf8
set title "Fitted curves (first seed)"
set xlabel "x"
set ylabel "y"
set grid
set key bottom right box opaque
set format x "%g"
set format y "%g"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "classical_fits.dat" index 0 using 1:2 with lines dashtype 2 title "sign(x)", \
     "classical_fits.dat" index 1 using 1:2 with lines title "N = 11", \
     "classical_fits.dat" index 2 using 1:2 with lines title "N = 30", \
     "classical_fits.dat" index 3 using 1:2 with lines title "N = 1091", \
     "classical_fits.dat" index 4 using 1:2 with points title "training data"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "classical_fits.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
