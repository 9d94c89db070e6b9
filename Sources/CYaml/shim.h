#ifndef HIREWIRE_CYAML_SHIM_H
#define HIREWIRE_CYAML_SHIM_H
#include <yaml.h>
#endif
