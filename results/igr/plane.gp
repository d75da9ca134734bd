# plane.gp: written by implreg.  Run it in its directory:
#   gnuplot plane.gp
# to render plane.png (pngcairo, or png when gnuplot has no cairo)
# and plane.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "plane.png"
if (!exists("ir_pdf")) ir_pdf = "plane.pdf"
set encoding utf8
set title "Two-parameter model: GD and the flows from (0.2, 3)"
set xlabel "a"
set ylabel "b"
set grid
set key outside box opaque
set format x "%g"
set format y "%g"

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "plane.dat" index 0 using 1:2 with linespoints title "GD, h = 0.02", \
     "plane.dat" index 1 using 1:2 with linespoints title "gradient flow", \
     "plane.dat" index 2 using 1:2 with linespoints title "modified flow, λ = h/4", \
     "plane.dat" index 3 using 1:2 with points pointsize 2 title "end: GD, h = 0.02", \
     "plane.dat" index 4 using 1:2 with points pointsize 2 title "end: gradient flow", \
     "plane.dat" index 5 using 1:2 with points pointsize 2 title "end: modified flow, λ = h/4", \
     "plane.dat" index 6 using 1:2 with lines dashtype 2 title "minima ab = y/x"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "plane.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
