module github.com/slskafka/slskafka

go 1.26
