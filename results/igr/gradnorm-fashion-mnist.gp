# gradnorm-fashion-mnist.gp: written by implreg.  Run it in its directory:
#   gnuplot gradnorm-fashion-mnist.gp
# to render gradnorm-fashion-mnist.png (pngcairo, or png when gnuplot has no cairo)
# and gradnorm-fashion-mnist.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "gradnorm-fashion-mnist.png"
if (!exists("ir_pdf")) ir_pdf = "gradnorm-fashion-mnist.pdf"
set encoding utf8
set title "fashion-mnist: ‖∇E‖² against the loss along GD, several h (seed 1)"
set xlabel "training loss"
set ylabel "‖∇E‖²"
set grid
set key outside box opaque
set logscale x 10
set format x "%g"
set xrange [0.049997547248840077:0.11633366030537723]
set logscale y 10
set format y "10^{%T}"
set yrange [0.0010598358585775329:0.507292564622015]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "gradnorm-fashion-mnist.dat" index 0 using 1:2 with lines title "h = 0.0045 (h λ₀ = 0.1)", \
     "gradnorm-fashion-mnist.dat" index 1 using 1:2 with lines title "h = 0.009 (h λ₀ = 0.2)", \
     "gradnorm-fashion-mnist.dat" index 2 using 1:2 with lines title "h = 0.018 (h λ₀ = 0.4)", \
     "gradnorm-fashion-mnist.dat" index 3 using 1:2 with lines title "h = 0.036 (h λ₀ = 0.8)"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "gradnorm-fashion-mnist.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
