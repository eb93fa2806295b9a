//! JSONPath payload templates (`Parameters`, `ItemSelector`, `ResultSelector`, ...): keys ending
//! in `.$` are replaced by what their path, intrinsic function, context path or variable gives.
