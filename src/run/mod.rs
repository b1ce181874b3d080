//! Running a child process with secret values in its environment, its
//! output passed through the redactor.
