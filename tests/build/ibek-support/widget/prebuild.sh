# runs in the clone before make: the C source includes what it writes
echo '#define GENERATED_ANSWER 42' > src/generated.h
