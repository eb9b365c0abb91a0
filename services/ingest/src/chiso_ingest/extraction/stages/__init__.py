"""The stages of extraction, each `(doc, mentions) -> mentions`, in the order they run."""
