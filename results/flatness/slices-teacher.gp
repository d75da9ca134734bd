# slices-teacher.gp: written by implreg.  Run it in its directory:
#   gnuplot slices-teacher.gp
# to render slices-teacher.png (pngcairo, or png when gnuplot has no cairo)
# and slices-teacher.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "slices-teacher.png"
if (!exists("ir_pdf")) ir_pdf = "slices-teacher.pdf"
set encoding utf8
set title "Loss slices through end points: teacher 4-32-1, η = 0.1"
set xlabel "t (filter-normalized units)"
set ylabel "training loss (log scale)"
set grid
set key outside right top vertical box opaque
set format x "%g"
set logscale y 10
set format y "10^{%T}"
set yrange [0.00059509496221886254:143.35740381423014]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "slices-teacher.dat" index 0 using 1:2 with lines title "B = 8, random", \
     "slices-teacher.dat" index 1 using 1:2 with lines dashtype 2 title "B = 8, top ev", \
     "slices-teacher.dat" index 2 using 1:2 with lines title "B = 16, random", \
     "slices-teacher.dat" index 3 using 1:2 with lines dashtype 2 title "B = 16, top ev", \
     "slices-teacher.dat" index 4 using 1:2 with lines title "GD, random", \
     "slices-teacher.dat" index 5 using 1:2 with lines dashtype 2 title "GD, top ev"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "slices-teacher.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
