# rescaling-teacher.gp: written by implreg.  Run it in its directory:
#   gnuplot rescaling-teacher.gp
# to render rescaling-teacher.png (pngcairo, or png when gnuplot has no cairo)
# and rescaling-teacher.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "rescaling-teacher.png"
if (!exists("ir_pdf")) ir_pdf = "rescaling-teacher.pdf"
set encoding utf8
set title "One function, many sharpnesses: teacher 4-32-1 rescaled"
set xlabel "α (layer 1 × α, layer 2 ÷ α)"
set ylabel "value (log scale)"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "10^{%T}"
set xrange [0.001:1000]
set logscale y 10
set format y "10^{%T}"
set yrange [0.00036218699281948571:57997484.609296523]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "rescaling-teacher.dat" index 0 using 1:2 with linespoints title "λ\\_max", \
     "rescaling-teacher.dat" index 1 using 1:2 with linespoints title "trace (Hutchinson)", \
     "rescaling-teacher.dat" index 2 using 1:2 with linespoints title "ε-sharpness (A = I)", \
     "rescaling-teacher.dat" index 3 using 1:2 with lines dashtype 2 title "balanced λ\\_max", \
     "rescaling-teacher.dat" index 4 using 1:2 with lines dashtype 2 title "training loss"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "rescaling-teacher.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
