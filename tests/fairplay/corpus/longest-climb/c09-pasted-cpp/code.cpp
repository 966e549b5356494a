#include <bits/stdc++.h>
using namespace std;
int main(){int n;scanf("%d",&n);vector<int>d;
for(int i=0,x;i<n;i++){scanf("%d",&x);auto it=lower_bound(d.begin(),d.end(),x);
if(it==d.end())d.push_back(x);else *it=x;}
printf("%d\n",(int)d.size());}
