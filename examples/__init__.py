"""Examples of protocols written outside paxsim (load them as examples.MODULE:Class)."""
