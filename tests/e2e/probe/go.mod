module forge.local/lab/probe

go 1.24
