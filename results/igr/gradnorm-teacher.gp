# gradnorm-teacher.gp: written by implreg.  Run it in its directory:
#   gnuplot gradnorm-teacher.gp
# to render gradnorm-teacher.png (pngcairo, or png when gnuplot has no cairo)
# and gradnorm-teacher.pdf (pdfcairo).  The variables ir_png and ir_pdf name
# other outputs: implreg renders into temporary files and renames
# them only when gnuplot succeeded, so no half-written image
# appears.
if (!exists("ir_png")) ir_png = "gradnorm-teacher.png"
if (!exists("ir_pdf")) ir_pdf = "gradnorm-teacher.pdf"
set encoding utf8
set title "teacher: ‖∇E‖² against the loss along GD, several h (seed 1)"
set xlabel "training loss"
set ylabel "‖∇E‖²"
set grid
set key outside box opaque
set logscale x 10
set format x "%g"
set xrange [0.010066889637806938:0.29328841246558207]
set logscale y 10
set format y "10^{%T}"
set yrange [7.8312459563629629e-05:0.65971776252762182]

if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
  set terminal pngcairo size 900,600 enhanced font "sans,11"
} else {
  set terminal png size 900,600 enhanced
}
set output ir_png
plot "gradnorm-teacher.dat" index 0 using 1:2 with lines title "h = 0.0305 (h λ₀ = 0.1)", \
     "gradnorm-teacher.dat" index 1 using 1:2 with lines title "h = 0.0611 (h λ₀ = 0.2)", \
     "gradnorm-teacher.dat" index 2 using 1:2 with lines title "h = 0.122 (h λ₀ = 0.4)", \
     "gradnorm-teacher.dat" index 3 using 1:2 with lines title "h = 0.244 (h λ₀ = 0.8)"
unset output
if (strstrt(GPVAL_TERMINALS, "pdfcairo") > 0) {
  set terminal pdfcairo size 6in,4in enhanced font "sans,10"
  set output ir_pdf
  replot
  unset output
} else {
  print "gradnorm-teacher.gp: this gnuplot has no pdfcairo terminal, no PDF made"
}
