"""``ebox monitor``: follow any C2SP tlog-tiles log from its public resources alone."""
