# samples_fashion.gp: written by implreg.  Run it in its directory:
#   gnuplot samples_fashion.gp
# to render samples_fashion.png (pngcairo, or png when gnuplot has no cairo)
# and samples_fashion.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "samples_fashion.png"
if (!exists("ir_pdf")) ir_pdf = "samples_fashion.pdf"
set encoding utf8
set title "Sample-wise: Fashion-MNIST, N = 500 random Fourier features, n training images"
set xlabel "n / N (log scale)"
set ylabel "test MSE (log scale)"
set grid
set key outside right top vertical box opaque
set logscale x 10
set format x "%g"
set xrange [0.20000000000000001:3]
set logscale y 10
set format y "10^{%T}"
set yrange [0.34582803286781283:12219.050258523672]
set arrow from first 1, graph 0 to first 1, graph 1 nohead dashtype 2 linecolor rgb "#505050" front
set label "n = N" at first 1, graph 0.96 offset character 0.5, 0 left textcolor rgb "#505050" front

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "samples_fashion.dat" index 0 using 1:2 with linespoints title "min-norm"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "samples_fashion.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
