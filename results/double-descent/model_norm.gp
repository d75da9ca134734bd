# model_norm.gp: written by implreg.  Run it in its directory:
#   gnuplot model_norm.gp
# to render model_norm.png (pngcairo, or png when gnuplot has no cairo)
# and model_norm.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "model_norm.png"
if (!exists("ir_pdf")) ir_pdf = "model_norm.pdf"
set encoding utf8
set title "Norm of the min-norm solution"
set xlabel "N / n (log scale)"
set ylabel "‖W‖\\_F (log scale)"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "10^{%T}"
set xrange [0.050000000000000003:10]
set logscale y 10
set format y "10^{%T}"
set yrange [5.7900314902557266:9108.2506002872433]
set arrow from first 1, graph 0 to first 1, graph 1 nohead dashtype 2 linecolor rgb "#505050" front
set label "N = n" at first 1, graph 0.96 offset character 0.5, 0 left textcolor rgb "#505050" front

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "model_norm.dat" index 0 using 1:2 with linespoints title "‖W‖\\_F"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "model_norm.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
