# lambda.gp: written by implreg.  Run it in its directory:
#   gnuplot lambda.gp
# to render lambda.png (pngcairo, or png when gnuplot has no cairo)
# and lambda.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "lambda.png"
if (!exists("ir_pdf")) ir_pdf = "lambda.pdf"
set encoding utf8
set title "Fitted coefficient over the theory's"
set xlabel "h λ\\_max"
set ylabel "λ\\_fit / λ\\_theory"
set grid
set key outside box opaque
set logscale x 10
set format x "10^{%T}"
set xrange [0.00125:2.6227000758607386]
set logscale y 10
set format y "%g"
set yrange [0.40443786598788145:15.375054408244358]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "lambda.dat" index 0 using 1:2 with linespoints title "quad1d, GD", \
     "lambda.dat" index 1 using 1:2 with linespoints title "quad1d, heavy ball β = 0.5", \
     "lambda.dat" index 2 using 1:2 with linespoints title "two-param, GD", \
     "lambda.dat" index 3 using 1:2 with linespoints title "linear, GD", \
     "lambda.dat" index 4 using 1:2 with linespoints title "linear, heavy ball β = 0.5", \
     "lambda.dat" index 5 using 1:2 with linespoints title "teacher, GD", \
     "lambda.dat" index 6 using 1:2 with linespoints title "fashion-mnist, GD", \
     "lambda.dat" index 7 using 1:2 with lines dashtype 2 title "theory"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "lambda.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
