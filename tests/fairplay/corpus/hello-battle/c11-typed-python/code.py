line = input().split()
print(int(line[0]) + int(line[1]))
