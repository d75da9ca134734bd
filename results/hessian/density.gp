# density.gp: written by implreg.  Run it in its directory:
#   gnuplot density.gp
# to render density.png (pngcairo, or png when gnuplot has no cairo)
# and density.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "density.png"
if (!exists("ir_pdf")) ir_pdf = "density.pdf"
set encoding utf8
set title "Hessian spectral density (SLQ)"
set xlabel "eigenvalue"
set ylabel "density (log scale)"
set grid
set key bottom right box opaque
set format x "%g"
set logscale y 10
set format y "10^{%T}"
set yrange [1.8590746748695013e-07:81.15155288972764]
set arrow from first 6.6884293629098259, graph 0 to first 6.6884293629098259, graph 1 nohead dashtype 2 linecolor rgb "#505050" front

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "density.dat" index 0 using 1:2 with lines title "SLQ (dashed line: λ\\_max)", \
     "density.dat" index 1 using 1:2 with lines dashtype 2 title "dense spectrum, same smoothing"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "density.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
