// Replaced by the ipam sources.
