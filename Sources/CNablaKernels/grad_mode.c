// Autograd's grad mode (Sources/Nabla/Autograd/Autograd.swift: withNoGrad, isGradEnabled). It is a
// C thread-local because Swift has no thread-local variables and every op reads it: one load, no call.
#include "CNablaKernels.h"

_Thread_local int nabla_tls_grad_disabled = 0;
