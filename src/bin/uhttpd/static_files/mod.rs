//! Static files under ROOT: resolve, conditional, range, listing.
