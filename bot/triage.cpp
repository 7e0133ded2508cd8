// triage: work in progress
