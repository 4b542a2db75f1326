#include "generated.h"

#ifndef WIDGET_BLOCK
#error "WIDGET_BLOCK is not defined: patch_blocks should add it to WIDGET_FLAGS"
#endif

int widget_answer(void) { return GENERATED_ANSWER; }
