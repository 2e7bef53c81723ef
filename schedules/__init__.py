"""The jobs (crawl, classify, digest, canary), the scheduler, and the ``himjobs`` command line."""
