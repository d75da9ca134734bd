# model_risk.gp: written by implreg.  Run it in its directory:
#   gnuplot model_risk.gp
# to render model_risk.png (pngcairo, or png when gnuplot has no cairo)
# and model_risk.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "model_risk.png"
if (!exists("ir_pdf")) ir_pdf = "model_risk.pdf"
set encoding utf8
set title "Model-wise double descent: Fashion-MNIST, n = 1000, rff features (sigma = 11.53)"
set xlabel "N / n (log scale)"
set ylabel "test MSE (log scale)"
set grid
set key top left box opaque
set logscale x 10
set format x "10^{%T}"
set xrange [0.050000000000000003:10]
set logscale y 10
set format y "10^{%T}"
set yrange [0.2366069178325797:2650.3178608018939]
set arrow from first 1, graph 0 to first 1, graph 1 nohead dashtype 2 linecolor rgb "#505050" front
set label "N = n" at first 1, graph 0.96 offset character 0.5, 0 left textcolor rgb "#505050" front

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "model_risk.dat" index 0 using 1:2 with linespoints title "min-norm", \
     "model_risk.dat" index 1 using 1:2 with linespoints title "optimal ridge"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "model_risk.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
