"""Motion and measurement models, as batched matrix builders."""
