# runs in the clone after make
ls lib/linux-x86_64 > extra/post_script.txt
