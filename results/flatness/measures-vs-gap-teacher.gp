# measures-vs-gap-teacher.gp: written by implreg.  Run it in its directory:
#   gnuplot measures-vs-gap-teacher.gp
# to render measures-vs-gap-teacher.png (pngcairo, or png when gnuplot has no cairo)
# and measures-vs-gap-teacher.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "measures-vs-gap-teacher.png"
if (!exists("ir_pdf")) ir_pdf = "measures-vs-gap-teacher.pdf"
set encoding utf8
set title "Flatness against the gap: teacher 4-32-1 (τ: Kendall)"
set xlabel "test loss − train loss"
set ylabel "measure / its median (log scale)"
set grid
set key outside right top vertical box opaque
set format x "%g"
set logscale y 10
set format y "%g"
set yrange [0.56533055415631883:3.1471735279769621]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "measures-vs-gap-teacher.dat" index 0 using 1:2 with points title "λ\\_max (τ = 0.08)", \
     "measures-vs-gap-teacher.dat" index 1 using 1:2 with points title "trace (τ = 0.08)", \
     "measures-vs-gap-teacher.dat" index 2 using 1:2 with points title "ε-sharpness (A = I) (τ = 0.11)", \
     "measures-vs-gap-teacher.dat" index 3 using 1:2 with points title "ε-sharpness (random A) (τ = 0.25)", \
     "measures-vs-gap-teacher.dat" index 4 using 1:2 with points title "balanced λ\\_max (τ = 0.13)", \
     "measures-vs-gap-teacher.dat" index 5 using 1:2 with points title "‖θ‖ (τ = 0.28)"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "measures-vs-gap-teacher.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
