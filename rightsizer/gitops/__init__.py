"""The weekly pull request: branch, commit, push, and open or update the PR/MR."""
