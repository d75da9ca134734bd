# epochs.gp: written by implreg.  Run it in its directory:
#   gnuplot epochs.gp
# to render epochs.png (pngcairo, or png when gnuplot has no cairo)
# and epochs.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "epochs.png"
if (!exists("ir_pdf")) ir_pdf = "epochs.pdf"
set encoding utf8
set title "Epoch-wise: error against GD time"
set xlabel "GD steps t (log scale)"
set ylabel "MSE (log scale)"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "10^{%T}"
set xrange [1:100000000]
set logscale y 10
set format y "10^{%T}"
set yrange [0.0026478132379277441:44.431496145269421]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "epochs.dat" index 0 using 1:2 with linespoints title "test MSE", \
     "epochs.dat" index 1 using 1:2 with linespoints title "train MSE"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "epochs.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
