module github.com/lwgo/lwgo

go 1.26
