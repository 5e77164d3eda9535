module wearhouse

go 1.26
