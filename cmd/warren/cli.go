package main

func runCLI(args []string) int { panic("not implemented") }
