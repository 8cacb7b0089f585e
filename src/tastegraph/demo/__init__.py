"""The demo community: a deterministic, realistic population to judge every feature on."""
