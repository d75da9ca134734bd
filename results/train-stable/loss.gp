# loss.gp: written by implreg.  Run it in its directory:
#   gnuplot loss.gp
# to render loss.png (pngcairo, or png when gnuplot has no cairo)
# and loss.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "loss.png"
if (!exists("ir_pdf")) ir_pdf = "loss.pdf"
set encoding utf8
set title "Training loss: 4-32-1 tanh, GD, η = 0.05"
set xlabel "step"
set ylabel "loss (log scale)"
set grid
set key outside right top vertical box opaque
set format x "%g"
set logscale y 10
set format y "%g"
set yrange [0.003813075531994386:0.41969897563811925]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "loss.dat" index 0 using 1:2 with lines title "train", \
     "loss.dat" index 1 using 1:2 with lines dashtype 2 title "test"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "loss.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
