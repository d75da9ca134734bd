# sharpness-vs-lr-teacher.gp: written by implreg.  Run it in its directory:
#   gnuplot sharpness-vs-lr-teacher.gp
# to render sharpness-vs-lr-teacher.png (pngcairo, or png when gnuplot has no cairo)
# and sharpness-vs-lr-teacher.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "sharpness-vs-lr-teacher.png"
if (!exists("ir_pdf")) ir_pdf = "sharpness-vs-lr-teacher.pdf"
set encoding utf8
set title "End-point λ\\_max against η: teacher 4-32-1"
set xlabel "step size η"
set ylabel "λ\\_max (log scale)"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "%g"
set xrange [0.050000000000000003:0.20000000000000001]
set logscale y 10
set format y "%g"
set yrange [7.4190621063211708:42.677868557192639]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "sharpness-vs-lr-teacher.dat" index 0 using 1:2:($2-$3 > 0 ? $2-$3 : $2/10):($2+$3) with yerrorbars pointtype -1 linecolor 1 notitle, \
     "sharpness-vs-lr-teacher.dat" index 0 using 1:2 with linespoints linecolor 1 title "SGD, B = 8", \
     "sharpness-vs-lr-teacher.dat" index 1 using 1:2:($2-$3 > 0 ? $2-$3 : $2/10):($2+$3) with yerrorbars pointtype -1 linecolor 2 notitle, \
     "sharpness-vs-lr-teacher.dat" index 1 using 1:2 with linespoints linecolor 2 title "SGD, B = 16", \
     "sharpness-vs-lr-teacher.dat" index 2 using 1:2:($2-$3 > 0 ? $2-$3 : $2/10):($2+$3) with yerrorbars pointtype -1 linecolor 3 notitle, \
     "sharpness-vs-lr-teacher.dat" index 2 using 1:2 with linespoints linecolor 3 title "GD (full batch)", \
     "sharpness-vs-lr-teacher.dat" index 3 using 1:2 with lines dashtype 2 title "2/η"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "sharpness-vs-lr-teacher.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
