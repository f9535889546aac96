/*
 * The Python types of _otlp_native, for module.c to add to the module: Spans (spans_object.c),
 * Columns and Buffer (columns_object.c).
 */
#ifndef SPANSCOPE_OTLP_OBJECTS_H
#define SPANSCOPE_OTLP_OBJECTS_H

#include "wire.h"

INTERNAL extern PyTypeObject SpansType, ColumnsType, BufferType;

#endif
