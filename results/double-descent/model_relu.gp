# model_relu.gp: written by implreg.  Run it in its directory:
#   gnuplot model_relu.gp
# to render model_relu.png (pngcairo, or png when gnuplot has no cairo)
# and model_relu.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "model_relu.png"
if (!exists("ir_pdf")) ir_pdf = "model_relu.pdf"
set encoding utf8
set title "Random ReLU features on the sphere against Mei \\& Montanari: d = 100, n = 3d, τ² = 0.1, F₁ = 1, F* = 0"
set xlabel "psi1 = N/d (log scale)"
set ylabel "excess risk (log scale)"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "%g"
set xrange [0.25:10]
set logscale y 10
set format y "%g"
set yrange [0.14574259900097392:1.9325802185476613]
set arrow from first 3, graph 0 to first 3, graph 1 nohead dashtype 2 linecolor rgb "#505050" front
set label "N = n" at first 3, graph 0.96 offset character 0.5, 0 left textcolor rgb "#505050" front

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "model_relu.dat" index 0 using 1:2:($2-$3 > 0 ? $2-$3 : $2/10):($2+$3) with yerrorbars pointtype -1 linecolor 1 notitle, \
     "model_relu.dat" index 0 using 1:2 with points linecolor 1 title "measured (mean ± standard error over seeds)", \
     "model_relu.dat" index 1 using 1:2 with lines title "Mei-Montanari"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "model_relu.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
