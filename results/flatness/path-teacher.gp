# path-teacher.gp: written by implreg.  Run it in its directory:
#   gnuplot path-teacher.gp
# to render path-teacher.png (pngcairo, or png when gnuplot has no cairo)
# and path-teacher.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "path-teacher.png"
if (!exists("ir_pdf")) ir_pdf = "path-teacher.pdf"
set encoding utf8
set title "Between two seeds' minima: teacher 4-32-1, η = 0.1"
set xlabel "t (0: seed 1, 1: seed 2)"
set ylabel "training loss (log scale)"
set grid
set key outside right top vertical box opaque
set format x "%g"
set logscale y 10
set format y "10^{%T}"
set yrange [0.00073995575448547294:0.49695114357121223]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "path-teacher.dat" index 0 using 1:2 with linespoints title "SGD, B = 8", \
     "path-teacher.dat" index 1 using 1:2 with linespoints title "SGD, B = 16", \
     "path-teacher.dat" index 2 using 1:2 with linespoints title "GD"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "path-teacher.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
